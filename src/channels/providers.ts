export const CHANNEL_TYPES = ['telegram', 'whatsapp', 'voice', 'sms', 'email', 'web_chat'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const CHANNEL_STATUSES = ['pending', 'active', 'error', 'disabled'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/** Which providers can carry which channel: the one table of it. */
export const PROVIDERS: Record<ChannelType, readonly string[]> = {
  telegram: ['telegram'],
  whatsapp: ['meta_cloud', 'twilio'],
  sms: ['twilio'],
  voice: ['retell', 'twilio'],
  email: ['gmail', 'resend', 'smtp'],
  web_chat: ['web_chat'],
};

export const ALL_PROVIDERS = [...new Set(Object.values(PROVIDERS).flat())];
