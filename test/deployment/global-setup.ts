import { findBinaries } from './cluster';

/** Fails the run with one plain line, not a stack, when PostgreSQL or PgBouncer is missing. */
export default function globalSetup(): void {
  try {
    findBinaries();
  } catch (error) {
    const plain = new Error((error as Error).message);
    plain.stack = plain.message;
    throw plain;
  }
}
