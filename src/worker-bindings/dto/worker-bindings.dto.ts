import { IsIn, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { listEnvelope } from '../../common/list';
import { WireField } from '../../common/wire';
import { BINDING_CHANNELS, BindingChannel } from '../addresses';
import { WorkerBinding } from '../worker-binding.entity';

export class CreateBindingDto {
  @WireField({ minLength: 1, maxLength: 255, example: '+447700900123' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  channelAddress!: string;

  @WireField({ enum: BINDING_CHANNELS }) @IsIn(BINDING_CHANNELS) channelType!: BindingChannel;
  @WireField({ format: 'uuid' }) @IsUUID() customerId!: string;
  @WireField({ format: 'uuid' }) @IsUUID() personId!: string;
}

export class RebindDto {
  @WireField({ minLength: 1, maxLength: 255, example: '+447700900456' })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  newAddress!: string;
}

export class ListBindingsQuery {
  @WireField({ format: 'uuid' }) @IsUUID() customerId!: string;
}

export const BindingList = listEnvelope(WorkerBinding, 'bindings');

export class LookupBindingQuery {
  @WireField({ enum: BINDING_CHANNELS }) @IsIn(BINDING_CHANNELS) channelType!: BindingChannel;

  @WireField({
    minLength: 1,
    maxLength: 255,
    example: '+44 7700 900123',
    description: 'In any spelling the binding routes accept: normalised as they store it',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  address!: string;
}

/** Who a binding names, as much as the runtime needs to greet them. */
export class BindingParty {
  @WireField({ format: 'uuid' }) id!: string;
  @WireField({ minLength: 1, maxLength: 200 }) name!: string;
}

/** A live binding with its person and customer: one call per inbound message. */
export class BindingLookup extends WorkerBinding {
  @WireField({ type: BindingParty }) person!: BindingParty;
  @WireField({ type: BindingParty }) customer!: BindingParty;
}
