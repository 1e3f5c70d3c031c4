import {
  Normalised,
  PHONE_CHANNELS,
  normalisePhone,
  visibleText,
} from '../worker-bindings/addresses';
import { CHANNEL_TYPES, ChannelType } from './providers';

/**
 * Inbound webhooks are routed by (type, provider, identifier), and uniqueness is checked on it,
 * so a phone number is stored in the one spelling bindings use: two spellings of one number
 * would otherwise be two endpoints, and the second would never receive a message. Some
 * providers name a phone endpoint by an id of their own (Meta's numeric phone_number_id, a
 * Retell agent id): an identifier is read as a phone number when it is written as one, with a
 * `+` or a leading 0, and anything else is kept as written.
 */
const WRITTEN_AS_PHONE = /^0|\+/;

/**
 * Every identifier is first read as a person sees it (visibleText: no invisible or bidi
 * characters, NFKC, trimmed), so a full-width `＋` or a trailing space does not make a second
 * endpoint of one number or id. Beyond that only phone numbers have one spelling: a provider's
 * own ids may be case-sensitive, and are kept as written.
 */
export function canonicalIdentifier(channelType: ChannelType, raw: string): Normalised {
  const visible = visibleText(raw);
  if (!visible.ok) return visible;
  const value = visible.address;
  if (!PHONE_CHANNELS.includes(channelType) || !WRITTEN_AS_PHONE.test(value)) {
    return { ok: true, address: value };
  }
  return normalisePhone(value);
}

/** Channel types whose identifiers are stored in one spelling for a given raw identifier. */
export interface IdentifierMatch {
  channelTypes: ChannelType[];
  externalIdentifier: string;
}

/**
 * What a filter on `raw` matches: for each channel type in `types`, the identifier an endpoint
 * of that type created with `raw` would store. Types whose canonical form cannot be made (a
 * phone-like identifier that is no phone number) match nothing; the caller decides whether that
 * is an error.
 */
export function identifierMatches(
  raw: string,
  types: readonly ChannelType[] = CHANNEL_TYPES,
): { matches: IdentifierMatch[]; refused: { channelType: ChannelType; reason: string }[] } {
  const byIdentifier = new Map<string, ChannelType[]>();
  const refused: { channelType: ChannelType; reason: string }[] = [];
  for (const channelType of types) {
    const result = canonicalIdentifier(channelType, raw);
    if (!result.ok) {
      refused.push({ channelType, reason: result.reason });
      continue;
    }
    byIdentifier.set(result.address, [...(byIdentifier.get(result.address) ?? []), channelType]);
  }
  const matches = [...byIdentifier].map(([externalIdentifier, channelTypes]) => ({
    channelTypes,
    externalIdentifier,
  }));
  return { matches, refused };
}
