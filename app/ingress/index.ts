// The public face of app/ingress/: the webhook endpoint from the socket to the stored delivery,
// the store of deliveries, and the queue that processes them after they were answered.
export {
  createWebhookIngress,
  DEFAULT_INGRESS_LIMITS,
  type IngressLimits,
  type WebhookIngress,
  type WebhookIngressOptions,
} from './webhook-ingress.ts';
export { createIngressServer, listen, type IngressServerOptions } from './http-server.ts';
export {
  openSqliteDeliveryStore,
  DEFAULT_DELIVERY_RETENTION_DAYS,
  type DeliveryStore,
  type StoredDelivery,
  type RecordOutcome,
} from './delivery-store.ts';
export { openDeliveryStore, type OpenDeliveryStoreOptions } from './open-delivery-store.ts';
export { DeliveryQueue, serialisationKey, type DeliveryHandler } from './delivery-queue.ts';
export { checkWebhookSignature, signWebhookBody, type SignatureProblem } from './signature.ts';
export { Refusal } from './refusals.ts';
