// Lints HTML mails with caniemail's data (@jsx-email/doiuse-email), for the mail programs
// named in the request. Run by tests/templates/email_lint.py:
//   node lint.cjs <folder holding node_modules>   < request.json
// request.json: {"clients": ["gmail.*", ...], "documents": {"name": "<!DOCTYPE html>...", ...}}
// answer on stdout: {"name": {"errors": [...], "warnings": [...]}, ...}
"use strict";
const path = require("node:path");
const { doIUseEmail } = require(
  require.resolve("@jsx-email/doiuse-email", { paths: [path.resolve(process.argv[2])] }),
);

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const answer = {};
  for (const [name, html] of Object.entries(request.documents)) {
    const result = doIUseEmail(html, { emailClients: request.clients });
    answer[name] = { errors: result.errors ?? [], warnings: result.warnings };
  }
  process.stdout.write(JSON.stringify(answer));
});
