// Trigger filters (`branches`, `paths`) are matched by the compiler's linear-time glob matcher
// with GitHub Actions' filter semantics (`*`, `**`, `?`, `+`, `[]`, `!`), never a backtracking
// RegExp; an invalid pattern in a stored plan throws (no run) rather than matching by accident.
export { matchesRefFilter } from '../../compiler/index.ts';
