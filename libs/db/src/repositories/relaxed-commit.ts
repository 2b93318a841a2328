/**
 * A one-row FROM item that turns off waiting for the log flush at commit, for
 * the statement's own transaction only (`set_config(..., true)`, like `SET
 * LOCAL`): the connection keeps its setting for the next statement. Joined into
 * a statement, it saves that statement the 2–3 ms a commit waits for the disk.
 *
 * Only for writes whose loss in a database crash harms nothing: at worst the
 * last fraction of a second of them is gone, never the database's consistency.
 */
export const RELAXED_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed_commit`;
