// base64url without padding (RFC 4648 §5): safe in URLs and query strings without escaping. Used for
// API key secrets and /admin/keys cursors.

export function bytesToBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
