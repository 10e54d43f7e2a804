// Signs a body as GitHub does, with GitHub's own @octokit/webhooks-methods, for the receiver's
// tests. Usage: node sign.mjs SIGNERS_DIR SECRET BODY_FILE; prints the request headers as a JSON
// object. SIGNERS_DIR is what scripts/install-webhook-signers.sh printed.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, secret, bodyFile] = process.argv.slice(2);
// The package exports only an ESM "node" condition, which a bare specifier outside its folder
// cannot reach: it is imported by its file.
const entry = resolve(dir, "node/node_modules/@octokit/webhooks-methods/dist-node/index.js");
const { sign } = await import(pathToFileURL(entry).href);
const body = readFileSync(bodyFile, "utf8");
console.log(JSON.stringify({ "x-hub-signature-256": await sign(secret, body) }));
