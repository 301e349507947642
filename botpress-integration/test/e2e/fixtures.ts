/** What the tests hand over and send: a history of every kind, and a message of each hitl type. */

/** Ten messages before the handoff, one of each type, from the user and the bot. */
export const historyFor = (userId: string) => [
  { source: { type: 'user', userId }, type: 'text', payload: { text: 'My parcel has not arrived.' } },
  { source: { type: 'user', userId }, type: 'image', payload: { imageUrl: 'https://files.example.org/label.png' } },
  { source: { type: 'user', userId }, type: 'audio', payload: { audioUrl: 'https://files.example.org/voice.ogg' } },
  { source: { type: 'bot' }, type: 'video', payload: { videoUrl: 'https://files.example.org/how-to-track.mp4' } },
  { source: { type: 'user', userId }, type: 'file', payload: { fileUrl: 'https://files.example.org/receipt.pdf', title: 'receipt.pdf' } },
  { source: { type: 'user', userId }, type: 'location', payload: { latitude: 45.5017, longitude: -73.5673, title: 'Home' } },
  {
    source: { type: 'bot' },
    type: 'carousel',
    payload: {
      items: [
        { title: 'Track a parcel', actions: [{ action: 'url', label: 'Open', value: 'https://example.org/track' }] },
        { title: 'Refunds', subtitle: 'Within 30 days', actions: [{ action: 'postback', label: 'Ask', value: 'refund' }] },
      ],
    },
  },
  {
    source: { type: 'bot' },
    type: 'card',
    payload: { title: 'Talk to a person', actions: [{ action: 'say', label: 'Yes please', value: 'yes' }] },
  },
  {
    source: { type: 'bot' },
    type: 'choice',
    payload: { text: 'Shall I hand you over?', options: [{ label: 'Yes', value: 'yes' }, { label: 'No', value: 'no' }] },
  },
  { source: { type: 'bot' }, type: 'markdown', payload: { markdown: '**One moment**, finding someone for you.' } },
]

/** One customer message of each type the hitl channel carries, in order. */
export const customerMessages: [string, Record<string, unknown>][] = [
  ['text', { text: 'Are you there?' }],
  ['image', { imageUrl: 'https://files.example.org/box.jpg' }],
  ['audio', { audioUrl: 'https://files.example.org/voice-2.ogg' }],
  ['video', { videoUrl: 'https://files.example.org/box.mp4' }],
  ['file', { fileUrl: 'https://files.example.org/invoice.pdf', title: 'invoice.pdf' }],
  [
    'bloc',
    {
      items: [
        { type: 'text', payload: { text: 'Here is the label:' } },
        { type: 'image', payload: { imageUrl: 'https://files.example.org/label-2.png' } },
        { type: 'markdown', payload: { markdown: '*thanks*' } },
      ],
    },
  ],
]

/** Waits until `check` returns a value, or fails after `ms`. */
export const eventually = async <T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> => {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
