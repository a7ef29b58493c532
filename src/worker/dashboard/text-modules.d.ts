// Files wrangler.toml's [[rules]] bundle as Text modules: their default export is the file's content.
declare module '*.iife.min.js' {
  const text: string;
  export default text;
}
declare module '*.min.css' {
  const text: string;
  export default text;
}
declare module '*/client.js' {
  const text: string;
  export default text;
}
