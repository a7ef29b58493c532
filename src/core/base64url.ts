// base64url without padding (RFC 4648 §5): safe in URLs and query strings without escaping. Used for
// API key secrets and /admin/keys cursors.

export function bytesToBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The bytes of a base64url string (padding optional), or null when it is not one. */
export function base64UrlToBytes(encoded: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(encoded.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
