/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * The setup page, probot's in substance (its `/probot` page: one button that posts the manifest
 * to GitHub's "new GitHub App" form), with every interpolated value escaped: probot's own view
 * puts the manifest JSON unescaped inside a single-quoted attribute.
 */
export function renderSetupPage(options: { name: string; createAppUrl: string; manifest: string }): string {
  const name = escapeHtml(options.name);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Set up ${name}</title></head>
<body>
  <h1>Set up ${name}</h1>
  <p>Register this instance as a GitHub App from its manifest (app.yml). GitHub asks where to
  create it, then sends you back here; the App's id, private key and webhook secret are written to
  the data directory and used from the next start of <code>maestro app</code>.</p>
  <form action="${escapeHtml(options.createAppUrl)}" method="post">
    <button type="submit" name="manifest" value="${escapeHtml(options.manifest)}">Register GitHub App</button>
  </form>
  <p>To register it by hand instead, see docs/github-app.md.</p>
</body>
</html>
`;
}

export function renderRegisteredPage(options: {
  name: string;
  credentialsPath: string;
  installUrl: string;
}): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(options.name)} registered</title></head>
<body>
  <h1>Registered</h1>
  <p>The credentials are in <code>${escapeHtml(options.credentialsPath)}</code>. Restart
  <code>maestro app</code>, then <a href="${escapeHtml(options.installUrl)}">install the App</a>.</p>
</body>
</html>
`;
}
