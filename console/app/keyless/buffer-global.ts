// esbuild's `inject` for the keyless verifier's bundle: sigstore-js uses Node's global Buffer.
export { Buffer } from 'buffer';
