import { DefaultNamingStrategy, NamingStrategyInterface } from 'typeorm';
import { toSnake } from '../common/wire';

/** Column names follow from property names with the same rule as the wire format. */
export class SnakeNamingStrategy extends DefaultNamingStrategy implements NamingStrategyInterface {
  override columnName(
    propertyName: string,
    customName: string | undefined,
    prefixes: string[],
  ): string {
    return customName ?? toSnake([...prefixes, propertyName].join('_'));
  }
}
