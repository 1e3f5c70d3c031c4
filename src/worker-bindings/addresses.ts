import { isEmail } from 'class-validator';

export const BINDING_CHANNELS = ['whatsapp', 'sms', 'voice', 'telegram', 'email'] as const;
export type BindingChannel = (typeof BINDING_CHANNELS)[number];

export type Normalised = { ok: true; address: string } | { ok: false; reason: string };

const E164 = /^\+[1-9]\d{6,14}$/;
const TELEGRAM_CHAT_ID = /^-?\d{1,20}$/;
const TELEGRAM_USERNAME = /^@?([A-Za-z0-9_]{5,32})$/;

/**
 * One spelling per address, so "+44 7700 900123" and "+447700900123" are the same binding.
 * Phone channels take E.164 (separators and a leading 00 are tolerated; a number without its
 * country code is refused rather than guessed); emails are trimmed and lower-cased; Telegram
 * takes a numeric chat id or an @username, lower-cased.
 */
export function normaliseAddress(channel: BindingChannel, raw: string): Normalised {
  const value = raw.trim();
  switch (channel) {
    case 'whatsapp':
    case 'sms':
    case 'voice': {
      const compact = value.replace(/[\s().-]/g, '').replace(/^00/, '+');
      return E164.test(compact)
        ? { ok: true, address: compact }
        : { ok: false, reason: 'must be a phone number in E.164 form, such as +447700900123' };
    }
    case 'email': {
      const email = value.toLowerCase();
      return isEmail(email)
        ? { ok: true, address: email }
        : { ok: false, reason: 'must be an email address' };
    }
    case 'telegram': {
      if (TELEGRAM_CHAT_ID.test(value)) return { ok: true, address: value };
      const username = TELEGRAM_USERNAME.exec(value);
      return username && !/^\d+$/.test(username[1])
        ? { ok: true, address: `@${username[1].toLowerCase()}` }
        : {
            ok: false,
            reason: 'must be a numeric chat id or an @username of 5 to 32 letters, digits or _',
          };
    }
    default: {
      const unreachable: never = channel;
      return { ok: false, reason: `unknown channel ${String(unreachable)}` };
    }
  }
}
