// Serves a built integration the way `bp serve` does: require the bundle and call its
// default export's start(port). Prints the bound port as one JSON line.
const bundle = process.argv[2]
const { default: integration } = require(bundle)
integration.start(0).then((server) => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
})
