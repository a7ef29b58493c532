// x-request-id: the client's value passes through when it is sane, otherwise Sluice mints one.

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export function requestIdFrom(headers: Headers): string {
  const given = headers.get('x-request-id');
  return given !== null && SANE_REQUEST_ID.test(given) ? given : crypto.randomUUID();
}
