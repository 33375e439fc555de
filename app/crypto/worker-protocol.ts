/** Messages between worker-pool.ts and crypto-worker.ts (structured-clone safe: no key objects). */
import type { DecryptResult } from './decrypt.ts';
import type { SmimeMaterial } from './smime.ts';
import type { SmimeCopiesOptions } from './smime-write.ts';

export type WireKey = string | Uint8Array;

export type JobRequest =
  | {
      id: number;
      op: 'decrypt';
      raw: Uint8Array;
      decryptionKeys: WireKey[];
      verificationKeys: WireKey[];
      canLookup: boolean;
      maxDecompressedSize?: number;
      smime?: SmimeMaterial;
    }
  | {
      id: number;
      op: 'encrypt';
      raw: Uint8Array;
      encryptionKeys: WireKey[];
      signingKeys: WireKey[];
      gossip?: string[];
      obscureSubject?: boolean;
      date?: number;
    }
  | {
      id: number;
      op: 'sign';
      raw: Uint8Array;
      signingKeys: WireKey[];
      protectedHeaders?: boolean;
      date?: number;
    }
  | {
      id: number;
      op: 'smime';
      raw: Uint8Array;
      signer: SmimeCopiesOptions['signer'];
      copies: SmimeCopiesOptions['copies'];
      date?: number;
    };

/** Main → worker: the answer to a key lookup the worker asked for. */
export interface LookupReply {
  id: number;
  op: 'lookup-reply';
  keys: WireKey[];
}

export type WorkerMessage =
  | {
      id: number;
      kind: 'done';
      decrypt?: Omit<DecryptResult, 'mime'> & { mime: Uint8Array };
      bytes?: Uint8Array;
      /** the S/MIME copies (op 'smime') */
      copies?: Uint8Array[];
    }
  | { id: number; kind: 'error'; name: string; code?: string; message: string }
  | { id: number; kind: 'lookup'; keyIds: string[]; attached: string[] };
