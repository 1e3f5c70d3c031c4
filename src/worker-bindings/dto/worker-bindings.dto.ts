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
