import {
  Normalised,
  PHONE_CHANNELS,
  normaliseAddress,
  normalisePhone,
  visibleText,
} from '../worker-bindings/addresses';
import { CHANNEL_TYPES, ChannelType } from './providers';

/**
 * Inbound webhooks are routed by (type, provider, identifier), and uniqueness is checked on it
 * across tenants, so an address is stored in the one spelling bindings use: two spellings of
 * one number or mailbox would otherwise be two endpoints, possibly of two tenants, and which
 * one a message reaches would depend on how the router spells it. Some providers name an
 * endpoint by an id of their own (Meta's numeric phone_number_id, a Retell agent id): for
 * those an identifier is read as an address when it is written as one, and anything else is
 * kept as written, since a provider's own ids may be case-sensitive.
 */
const WRITTEN_AS_PHONE = /^0|\+/;
/** Providers that name a phone channel's endpoint by its number and nothing else. */
const NUMBERED_BY_PHONE: readonly string[] = ['twilio'];
/** A Telegram username as a link: t.me/name, with or without its scheme. */
const TELEGRAM_LINK = /^(?:https?:\/\/)?(?:www\.)?t(?:elegram)?\.me\/([A-Za-z0-9_]+)\/?$/i;
const TELEGRAM_NAME_OR_ID = /^(?:@?[A-Za-z0-9_]{5,32}|-?\d+)$/;

/**
 * Every identifier is first read as a person sees it (visibleText: no invisible or bidi
 * characters, NFKC, trimmed), so a full-width `＋` or a trailing space does not make a second
 * endpoint. Then: a phone number (always, for a provider numbered by phone) in E.164; an
 * email address lower-cased with its domain in punycode; a Telegram username (also as a t.me
 * link) lower-cased with its @, a chat id as an integer.
 */
export function canonicalIdentifier(
  channelType: ChannelType,
  raw: string,
  provider?: string,
): Normalised {
  const visible = visibleText(raw);
  if (!visible.ok) return visible;
  const value = visible.address;
  if (PHONE_CHANNELS.includes(channelType)) {
    const byPhone = provider !== undefined && NUMBERED_BY_PHONE.includes(provider);
    return byPhone || WRITTEN_AS_PHONE.test(value) ? normalisePhone(value) : visible;
  }
  if (channelType === 'email' && value.includes('@')) return normaliseAddress('email', value);
  if (channelType === 'telegram') {
    const name = TELEGRAM_LINK.exec(value)?.[1] ?? value;
    if (TELEGRAM_NAME_OR_ID.test(name)) return normaliseAddress('telegram', name);
  }
  return visible;
}

/** Channel types whose identifiers are stored in one spelling for a given raw identifier. */
export interface IdentifierMatch {
  channelTypes: ChannelType[];
  externalIdentifier: string;
}

/**
 * What a filter on `raw` matches: for each channel type in `types`, the identifier an endpoint
 * of that type created with `raw` would store, and `raw` as written (visibleText): endpoints
 * created before emails and Telegram names had one spelling keep theirs. Types whose canonical
 * form cannot be made (a phone-like identifier that is no phone number) match nothing; the
 * caller decides whether that is an error.
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
    const visible = visibleText(raw);
    const spellings = new Set([result.address, visible.ok ? visible.address : result.address]);
    for (const spelling of spellings) {
      byIdentifier.set(spelling, [...(byIdentifier.get(spelling) ?? []), channelType]);
    }
  }
  const matches = [...byIdentifier].map(([externalIdentifier, channelTypes]) => ({
    channelTypes,
    externalIdentifier,
  }));
  return { matches, refused };
}
