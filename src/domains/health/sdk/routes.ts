/**
 * The route definitions the health actions call: the one place this module names them, so moving
 * them to the domain's own table (`core/routes.ts`, same keys) is a change of this import.
 * @module
 */
import { Type as T } from '@sinclair/typebox';
import { Routes, type RouteDef } from '../../../protocol/api.js';

/** The health API routes (today part of the shared table). */
export const HealthRoutes = Routes;

/**
 * `GET /fhir/Consent?patient=`: served by the FHIR facade (`domains/health/api/fhir.ts`), which sits
 * outside the route table (hidden from OpenAPI); defined here so the SDK still calls it typed.
 */
export const FhirConsentsRoute = {
  method: 'GET',
  url: '/fhir/Consent',
  summary: "The patient's consents as FHIR R4 Consent resources (signed fhir.consents request).",
  tags: ['fhir'],
  querystring: T.Object({ patient: T.String({ minLength: 3, maxLength: 129 }) }),
} as const satisfies RouteDef;
