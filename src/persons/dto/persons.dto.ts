/**
 * The person's request and response schemas are the directory's: this folder only adds the
 * routes whose work reaches beyond the directory (erasure revokes worker bindings).
 */
export { UpdatePersonDto } from '../../directory/dto/directory.dto';
export { Person } from '../../directory/directory.entities';
