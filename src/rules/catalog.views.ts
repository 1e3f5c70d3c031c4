import { WireField } from '../common/wire';
import { REPLAYABLE_SERVICES } from '../approvals/replayable-services';
import { FIELD_TYPES, FieldType, TRIGGER_TYPES } from './trigger-catalog';

/** Wire shapes of the two catalogs, built once: they never change while the process runs. */
export class PayloadFieldView {
  @WireField() name!: string;
  @WireField({ enum: FIELD_TYPES }) type!: FieldType;
  @WireField() label!: string;
  @WireField({ nullable: true, type: [String], description: 'Allowed values, for enum fields' })
  values!: string[] | null;
}

export class TriggerTypeView {
  @WireField({ example: 'rent.overdue' }) event!: string;
  @WireField() label!: string;
  @WireField() description!: string;
  @WireField({ type: [PayloadFieldView] }) payloadFields!: PayloadFieldView[];
}

export class ServiceParamView {
  @WireField() name!: string;
  @WireField({ enum: FIELD_TYPES }) type!: FieldType;
  @WireField() label!: string;
  @WireField() required!: boolean;
}

export class ReplayableActionView {
  @WireField() action!: string;
  @WireField() label!: string;
  @WireField({ type: [ServiceParamView] }) params!: ServiceParamView[];
}

export class ReplayableServiceView {
  @WireField({ example: 'payments' }) skillSlug!: string;
  @WireField() label!: string;
  @WireField() description!: string;
  @WireField({ type: [ReplayableActionView] }) actions!: ReplayableActionView[];
}

const as = <T extends object>(cls: new () => T, value: object): T =>
  Object.assign(new cls(), value);

export const TRIGGER_TYPE_VIEWS = TRIGGER_TYPES.map((t) =>
  as(TriggerTypeView, {
    ...t,
    payloadFields: t.payloadFields.map((f) => as(PayloadFieldView, { values: null, ...f })),
  }),
);

export const REPLAYABLE_SERVICE_VIEWS = REPLAYABLE_SERVICES.map((s) =>
  as(ReplayableServiceView, {
    ...s,
    actions: s.actions.map((a) =>
      as(ReplayableActionView, { ...a, params: a.params.map((p) => as(ServiceParamView, p)) }),
    ),
  }),
);
