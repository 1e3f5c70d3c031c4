import { IsString } from 'class-validator';
import { RequestValidationError } from '../../src/common/errors';
import { WireField } from '../../src/common/wire';
import { WirePipe } from '../../src/common/wire.pipe';

class AllOptional {
  @WireField({ optional: true }) @IsString() someName?: string;
}

class OneRequired {
  @WireField({ optional: true }) @IsString() someName?: string;
  @WireField() @IsString() otherName!: string;
}

const pipe = new WirePipe();
const asBody = (metatype: new () => object) => ({ type: 'body' as const, metatype });

/** The 422's entries, or null if the input was taken. */
function refusal(input: unknown, metatype: new () => object) {
  try {
    pipe.transform(input, asBody(metatype));
    return null;
  } catch (error) {
    if (!(error instanceof RequestValidationError)) throw error;
    return error.errors.map(({ loc, type }) => ({ loc, type }));
  }
}

describe('WirePipe on an empty input', () => {
  it('refuses it for a class with a required field, every time', () => {
    for (let i = 0; i < 3; i++) {
      expect(refusal({}, OneRequired)).toEqual([{ loc: ['body', 'other_name'], type: 'missing' }]);
    }
  });

  it('takes it for a class whose fields are all optional, every time, and still checks the rest', () => {
    for (let i = 0; i < 3; i++) {
      expect(pipe.transform({}, asBody(AllOptional))).toBeInstanceOf(AllOptional);
      expect(refusal({ some_name: 5 }, AllOptional)).toEqual([
        { loc: ['body', 'some_name'], type: 'string_type' },
      ]);
    }
  });
});
