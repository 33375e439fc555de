/** Transport security of a mail host (as accounts store it). */
export type Security = 'starttls' | 'tls' | 'none';
