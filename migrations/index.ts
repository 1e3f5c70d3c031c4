import { Directory1732406400000 } from './1732406400000-directory';

/** Every migration in order. Append only: a landed migration is never edited. */
export const MIGRATIONS = [Directory1732406400000];
