/**
 * The OpenTelemetry resource every signal of a Maestro process carries: `service.name`
 * `summit-maestro` (OTEL_SERVICE_NAME overrides it), a `service.instance.id` per process (so
 * replicas' series stay apart in the backend), the SDK's own attributes, and whatever
 * OTEL_RESOURCE_ATTRIBUTES adds. The standard variables are read by the SDK's env detector (its
 * documented behaviour), after Maestro's defaults, so an operator's values win.
 */
import { randomUUID } from 'node:crypto';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';

export const SERVICE_NAME = 'summit-maestro';

export function otelResource(): Resource {
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': SERVICE_NAME, 'service.instance.id': randomUUID() }))
    .merge(detectResources({ detectors: [envDetector] }));
}
