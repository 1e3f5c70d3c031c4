import { SetMetadata } from '@nestjs/common';

export const OWN_TRANSACTIONS = 'hydracore:own-transactions';

/**
 * The route opens its own transactions (`TenantDb.read`) instead of running in one for the
 * whole request: a long poll must not hold a connection of its tenant's share while it waits.
 */
export const OwnTransactions = () => SetMetadata(OWN_TRANSACTIONS, true);
