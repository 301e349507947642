/**
 * @botpress/sdk 7.2.4 is built against @botpress/client 2.5.0, whose module exports an
 * `http` namespace: the SDK's retry rule calls `http.isNetworkOrIdempotentRequestError`
 * on every failed Botpress API call. This package pins @botpress/client 1.45.0 instead
 * (through `overrides` in package.json; 2.5.0 was not available from the registry the
 * lockfile was made against), which has the same helper on its axios-retry export.
 * Without this file every failed API call would surface as "Cannot read properties of
 * undefined" (no 404 could be told apart) and nothing would be retried.
 *
 * It must run before the SDK is loaded: src/index.ts imports it first. Delete it, and
 * the override, once the SDK's own client version can be installed.
 */
type RetryHelper = (error: unknown) => boolean
type ClientModule = {
  http?: { isNetworkOrIdempotentRequestError?: RetryHelper }
  axiosRetry: { isNetworkOrIdempotentRequestError: RetryHelper }
}

// The module object itself (not an import wrapper), as the SDK will require it.
const client = require('@botpress/client') as ClientModule
if (typeof client.http?.isNetworkOrIdempotentRequestError !== 'function') {
  client.http = { isNetworkOrIdempotentRequestError: client.axiosRetry.isNetworkOrIdempotentRequestError }
}

export {}
