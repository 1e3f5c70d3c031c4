import { EntityManager } from 'typeorm';

/**
 * Waits for this transaction's turn at `key` among the writes of one kind (`lockClass`, four
 * ASCII letters as an integer), and holds it until the transaction ends: for a count checked
 * against a cap, so that two writes cannot both see room for one more. Whatever is read next
 * must be a statement of its own: a statement's snapshot is taken when it starts, and one that
 * waited here would not see what the previous holder committed.
 */
export async function takeTurn(m: EntityManager, lockClass: number, key: string): Promise<void> {
  await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [lockClass, key]);
}
