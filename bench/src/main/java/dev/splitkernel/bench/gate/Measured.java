package dev.splitkernel.bench.gate;

/**
 * One metric as measured in one gate run.
 *
 * @param name  e.g. "random.messagesPerMiss".
 * @param kind  how it is compared.
 * @param value the value; NaN when it could not be measured.
 * @param unit  for a person, e.g. "B/miss".
 */
record Measured(String name, MetricKind kind, double value, String unit)
{
}
