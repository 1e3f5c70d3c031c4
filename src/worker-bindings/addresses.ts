import { domainToASCII } from 'node:url';
import { isEmail } from 'class-validator';
import { parsePhoneNumberWithError } from 'libphonenumber-js';

export const BINDING_CHANNELS = ['whatsapp', 'sms', 'voice', 'telegram', 'email'] as const;
export type BindingChannel = (typeof BINDING_CHANNELS)[number];

/** Channels whose address (and whose channel endpoint's external_identifier) is a phone number. */
export const PHONE_CHANNELS: readonly string[] = ['whatsapp', 'sms', 'voice'];

export type Normalised = { ok: true; address: string } | { ok: false; reason: string };

const refuse = (reason: string): Normalised => ({ ok: false, reason });

/**
 * Invisible code points: they make two spellings of one address look identical to a person
 * while comparing unequal, so one is refused rather than silently dropped (dropping would
 * accept input nobody can see was wrong). Format characters (Cf) cover the zero-width ones,
 * U+2060..2064, the BOM and the soft hyphen; Default_Ignorable adds variation selectors and
 * fillers; Cc the control characters.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** Checked first, so the message names what an attacker would use to reverse displayed text. */
const BIDI_CONTROL = /\p{Bidi_Control}/u;

const PHONE_SEPARATORS = /[\s().-]/g;
const TELEGRAM_CHAT_ID = /^(-?)(\d+)$/;
const TELEGRAM_USERNAME = /^@?([A-Za-z0-9_]{5,32})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** RFC 5321 caps a path at 256 octets including its angle brackets. */
const EMAIL_MAX_OCTETS = 254;

/**
 * One spelling per address, so "+44 (0) 7700 900123" and "+447700900123" are the same binding.
 * Every channel is NFKC-normalised first (full-width digits and letters fold to ASCII), and
 * invisible or bidirectional control characters are refused anywhere in the input.
 */
export function normaliseAddress(channel: BindingChannel, raw: string): Normalised {
  const visible = visibleText(raw);
  if (!visible.ok) return visible;
  const value = visible.address;
  switch (channel) {
    case 'whatsapp':
    case 'sms':
    case 'voice':
      return normalisePhone(value);
    case 'email':
      return normaliseEmail(value);
    case 'telegram':
      return normaliseTelegram(value);
    default: {
      const unreachable: never = channel;
      return refuse(`unknown channel ${String(unreachable)}`);
    }
  }
}

/**
 * E.164 through the numbering plan, so a national trunk prefix written after the country code
 * ("+44 (0) 7700…") is dropped rather than kept as a digit. Only spaces, dots, hyphens and
 * parentheses may separate digits: libphonenumber would otherwise pull a number out of free
 * text ("call +44…", "tel:", extensions) and two different inputs would silently become one.
 * A number must start with + or the 00 international prefix; no region is guessed.
 *
 * isPossible (a known country code and a length that country's plan allows), not isValid (a
 * currently allocated range): Ofcom's drama range +44 7700 900xxx, used throughout the tests
 * and the docs' examples, is not allocated, so isValid refuses it, and isValid would also
 * refuse real numbers in ranges opened after this library's metadata was published.
 */
/**
 * Text as a person reads it: invisible or bidirectional control characters refused, NFKC
 * (full-width digits and letters fold to ASCII), trimmed. Every address, and every channel
 * identifier, passes through this first.
 */
export function visibleText(raw: string): Normalised {
  if (BIDI_CONTROL.test(raw)) return refuse('must not contain bidirectional control characters');
  // Whitespace controls are only spacing (trimmed, or refused by each format); not trim(),
  // which would also strip a BOM at either end.
  if (INVISIBLE.test(raw.replace(/[\t\n\v\f\r]/g, ' '))) {
    return refuse('must not contain invisible characters');
  }
  const value = raw.normalize('NFKC').trim();
  return value === '' ? refuse('must not be blank') : { ok: true, address: value };
}

export function normalisePhone(raw: string): Normalised {
  const reason = 'must be a phone number with its country code, such as +447700900123';
  const compact = raw.normalize('NFKC').trim().replace(PHONE_SEPARATORS, '');
  const digits = /^(?:\+|00)(\d+)$/.exec(compact);
  if (!digits) return refuse(reason);
  try {
    const phone = parsePhoneNumberWithError(`+${digits[1]}`);
    return phone.isPossible() && !phone.ext ? { ok: true, address: phone.number } : refuse(reason);
  } catch {
    return refuse(reason);
  }
}

/**
 * Trimmed, NFKC, lower-cased, the domain in punycode (IDNA/UTS 46): "exämple.com" and
 * "xn--exmple-cua.com" are one address, and a domain spelled with Cyrillic look-alikes is
 * stored as its own xn-- form, never as the Latin name it imitates.
 *
 * A non-ASCII local part is kept (NFKC, lower-cased) rather than refused or transliterated:
 * SMTPUTF8 mailboxes (RFC 6531) are real addresses, and there is no mapping from a Cyrillic
 * "а" to a Latin "a" that the receiving server would honour; they are different mailboxes, so
 * treating them as one would bind one person's address to another's. NFKC still folds the
 * compatibility forms (full-width, ligatures) that a server may well treat as the same.
 */
function normaliseEmail(value: string): Normalised {
  const reason = 'must be an email address';
  const folded = value.toLowerCase().normalize('NFKC');
  const at = folded.lastIndexOf('@');
  if (at <= 0) return refuse(reason);
  const domain = domainToASCII(folded.slice(at + 1));
  if (!domain) return refuse(reason);
  const address = `${folded.slice(0, at)}@${domain}`;
  if (Buffer.byteLength(address) > EMAIL_MAX_OCTETS)
    return refuse('is too long for an email address');
  return isEmail(address) ? { ok: true, address } : refuse(reason);
}

/**
 * A chat id is an integer, so leading zeros do not make another chat; it must fit the signed
 * 64-bit range Telegram's ids live in (groups and channels are negative). Usernames are
 * case-insensitive in Telegram, so they are stored lower-cased with their @.
 */
function normaliseTelegram(value: string): Normalised {
  const id = TELEGRAM_CHAT_ID.exec(value);
  if (id) {
    const n = BigInt(`${id[1]}${id[2]}`);
    if (n === 0n) return refuse('is not a Telegram chat id: no chat has id 0');
    return n < INT64_MIN || n > INT64_MAX
      ? refuse('is not a Telegram chat id: it must fit in a signed 64-bit integer')
      : { ok: true, address: n.toString() };
  }
  const username = TELEGRAM_USERNAME.exec(value);
  return username && !/^\d+$/.test(username[1])
    ? { ok: true, address: `@${username[1].toLowerCase()}` }
    : refuse('must be a numeric chat id or an @username of 5 to 32 letters, digits or _');
}
