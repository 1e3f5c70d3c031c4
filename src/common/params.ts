import { Param, PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { RequestValidationError } from './errors';

class UuidPathPipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    if (!isUUID(value)) {
      throw RequestValidationError.at(
        ['path', this.name],
        'Input should be a valid UUID',
        'uuid_parsing',
      );
    }
    return value.toLowerCase();
  }
}

/** A UUID path parameter; anything else is a 422 at ["path", name]. */
export const UuidParam = (name: string): ParameterDecorator => Param(name, new UuidPathPipe(name));
