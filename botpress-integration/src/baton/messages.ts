/**
 * What the bot owner reads when a call to Baton fails: each message says which part is
 * wrong (the address, the token, the kind of connection, or Baton's own refusal).
 */
import type { Endpoint } from './endpoint'
import type { BatonFailure } from './http'

const URL_SHAPE = 'https://baton.example.com/botpress/<token>'

/** For register, which runs when the configuration is saved. */
export const registrationMessage = (endpoint: Endpoint, f: BatonFailure): string => {
  switch (f.kind) {
    case 'unreachable':
      return (
        `Cannot reach Baton at ${endpoint.origin}: ${f.detail}. Check the endpoint URL (paste it exactly as ` +
        `Baton shows it, ${URL_SHAPE}) and that Baton is running and reachable from Botpress.`
      )
    case 'not-baton':
      return (
        `Cannot reach Baton at ${endpoint.origin}: the server there answered HTTP ${f.status} (${f.detail}), ` +
        `so this is not a Baton endpoint URL. Paste the endpoint URL exactly as Baton shows it (${URL_SHAPE}).`
      )
    case 'unknown-endpoint':
      return (
        'Baton does not know this endpoint URL: check the token part (after /botpress/). Copy the URL again ' +
        'from the connection in Baton; a rotated token or a deleted connection gives this too.'
      )
    case 'refused':
      if (f.status === 409) {
        return (
          `Baton refused: ${f.error}. This connection is set up for the "Human in the Loop API" integration ` +
          "(plus/hitl-api): in Baton, create a connection for Baton's own integration and paste its endpoint URL here."
        )
      }
      return `Baton refused the registration (HTTP ${f.status}): ${f.error}`
    case 'bad-answer':
      return (
        `Baton's answer was not understood (${f.detail}). This integration needs a Baton version that ` +
        'supports its own Botpress integration.'
      )
  }
}

/**
 * For an action whose failure leaves something undone; `outcome` says what, e.g.
 * "the handoff was not started".
 */
export const actionMessage = (endpoint: Endpoint, f: BatonFailure, outcome: string): string => {
  switch (f.kind) {
    case 'unreachable':
      return `Baton is unreachable at ${endpoint.origin}: ${outcome} (${f.detail}).`
    case 'not-baton':
      return `Baton is unreachable at ${endpoint.origin}: ${outcome} (HTTP ${f.status} from a server that is not Baton: ${f.detail}).`
    case 'unknown-endpoint':
      return (
        `Baton does not know this endpoint URL any more (rotated token or deleted connection): ${outcome}. ` +
        "Paste the connection's current endpoint URL into the integration's configuration."
      )
    case 'refused':
      return `Baton refused: ${f.error} (HTTP ${f.status}); ${outcome}.`
    case 'bad-answer':
      return `Baton's answer was not understood (${f.detail}); ${outcome}.`
  }
}
