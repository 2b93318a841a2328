// The kit's templates, as the editor's starting points for a new plugin.
const files = import.meta.glob<string>('../../../plugin-pdk/templates/*.ts', { query: '?raw', import: 'default', eager: true });

export const TEMPLATES: ReadonlyMap<string, string> = new Map(
  Object.entries(files)
    .map(([path, source]): [string, string] => [path.slice(path.lastIndexOf('/') + 1, -'.ts'.length), source])
    .sort(([a], [b]) => (a === 'hello' ? -1 : b === 'hello' ? 1 : a.localeCompare(b))),
);

export const FIRST_TEMPLATE = 'hello';
