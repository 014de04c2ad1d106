/**
 * The route definitions the health actions call: the domain's own table plus the shared patient-trail
 * routes (tokens, events, subscriptions), named in this one place.
 * @module
 */
import { Routes } from '../../../protocol/api.js';
import { HealthRoutes as DomainRoutes } from '../core/routes.js';

/** The routes the health actions use, by their table keys. */
export const HealthRoutes = { ...Routes, ...DomainRoutes } as const;

/** `GET /fhir/Consent?patient=`: the patient's consents as FHIR Consent resources. */
export const FhirConsentsRoute = DomainRoutes.fhirConsent;
