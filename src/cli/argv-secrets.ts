import { redactUrl } from '../net/redis-url.js';

/**
 * A password in a redis:// URL is accepted (scripts that predate --password-file keep working)
 * but must not stay in `ps` for the life of a long run: the process title, which is what
 * /proc/PID/cmdline shows, is rewritten with the passwords masked, and the operator is told that
 * the URL exposed it until then (shell history, the crontab, a `ps` taken at startup).
 */
export function hideUrlPasswords(argv: readonly string[], warn: (line: string) => void): void {
  const shown = argv.map(redactUrl);
  if (shown.every((a, i) => a === argv[i])) return;
  process.title = shown.join(' ');
  warn('a password in a redis:// URL is visible to other users of this host until startup masks it; prefer --password-file or REDISCLI_AUTH');
}
