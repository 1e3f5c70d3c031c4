import { Header, applyDecorators } from '@nestjs/common';

/**
 * Marks a route whose success response carries a secret (a new key, shown once): no cache,
 * the browser's or a proxy's, may keep a copy. Errors carry no secret and stay as they are.
 */
export const CarriesSecret = () => applyDecorators(Header('Cache-Control', 'no-store'));
