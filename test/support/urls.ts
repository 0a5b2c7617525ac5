/** The same server as `url`, on database `name`. */
export function databaseUrlFor(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;

  return parsed.toString();
}

/** The database in DATABASE_URL itself, used to create and drop per-file databases. */
export function adminUrl(url: string): string {
  return url;
}
