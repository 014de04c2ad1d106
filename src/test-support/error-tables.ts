/** Every documented error-code table, by section: the source of docs/errors.md and its test. */
import { SharedErrorCodes } from '../protocol/errors.js';
import { DOMAIN_ERROR_CODES } from '../core/domains.js';
import { ContractCodes, EnvelopeCodes } from '../protocol/validation.js';
import { CertificateErrorCodes } from '../protocol/x509.js';
import { MerkleErrorCodes } from '../protocol/merkle/index.js';
import { ProofErrorCodes } from '../protocol/receipt.js';
import { EnvelopeErrorCodes } from '../protocol/envelope.js';
import { BlobStoreErrorCodes } from '../domains/health/node/blob-store.js';
import { Gs1ErrorCodes } from '../domains/supply/core/gs1.js';
import { SupplyFactErrorCodes } from '../domains/supply/core/facts.js';
import { SUSPECT_REASONS } from '../domains/supply/contracts/model.js';
import { VERIFICATION_REASONS } from '../domains/supply/contracts/verify.js';

export const errorTables: {
  title: string;
  codes: Record<string, string | { status: number; message: string }>;
}[] = [
  { title: 'API error codes', codes: SharedErrorCodes },
  // Every domain's API codes, from the manifest: a new domain's codes are checked with no edit here.
  ...Object.entries(DOMAIN_ERROR_CODES).map(([domain, codes]) => ({
    title: `API error codes (${domain})`,
    codes,
  })),
  { title: 'Validation codes (envelope)', codes: EnvelopeCodes },
  { title: 'Validation codes (contracts)', codes: ContractCodes },
  { title: 'Certificate errors', codes: CertificateErrorCodes },
  { title: 'Merkle proof errors', codes: MerkleErrorCodes },
  { title: 'Receipt and proof verification errors (SDK)', codes: ProofErrorCodes },
  { title: 'Record envelope errors (encryption)', codes: EnvelopeErrorCodes },
  { title: 'Encrypted blob store errors', codes: BlobStoreErrorCodes },
  { title: 'GS1 identifier errors (supply chain)', codes: Gs1ErrorCodes },
  { title: 'EPCIS event facts errors (supply chain intake)', codes: SupplyFactErrorCodes },
  { title: 'Product verification reasons (VRS additionalInfo)', codes: VERIFICATION_REASONS },
  { title: 'Suspect package reasons (supply alerts)', codes: SUSPECT_REASONS },
];
