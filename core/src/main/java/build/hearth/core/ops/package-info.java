/**
 * Operating Hearth: what the server shows about itself over HTTP on its gRPC port (Prometheus
 * metrics, health, the admin endpoint) and the registry of what each worker last reported.
 */
package build.hearth.core.ops;
