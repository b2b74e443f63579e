{{/*
Rejects value combinations that the schema cannot express. Each message names
the values involved and how to fix them. The Deployment includes this check,
so every render runs it. The Strimzi checks come first because their messages
are the more specific ones when a KafkaUser sets the Kafka credentials.
*/}}
{{- define "squarebot.validate" -}}
{{- include "squarebot.validateShutdown" . -}}
{{- include "squarebot.validateAutoscaling" . -}}
{{- include "squarebot.validateStrimzi" . -}}
{{- include "squarebot.validateKafka" . -}}
{{- include "squarebot.validateRegistry" . -}}
{{- end -}}

{{/*
The kubelet sends SIGKILL when the grace period ends, so it must cover the
preStop sleep, squarebot's shutdown budget and 5 s for the process to exit.
*/}}
{{- define "squarebot.validateShutdown" -}}
{{- $grace := int64 .Values.terminationGracePeriodSeconds -}}
{{- $needed := add .Values.preStopSleepSeconds .Values.shutdownTimeoutSeconds 5 | int64 -}}
{{- if lt $grace $needed -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least preStopSleepSeconds + shutdownTimeoutSeconds + 5 (%d): raise it, or shorten the preStop sleep or the shutdown budget" $grace $needed) -}}
{{- end -}}
{{- end -}}

{{- define "squarebot.validateAutoscaling" -}}
{{- $hpa := .Values.autoscaling -}}
{{- if $hpa.enabled -}}
{{- if gt (int64 $hpa.minReplicas) (int64 $hpa.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas (%d) is greater than autoscaling.maxReplicas (%d)" (int64 $hpa.minReplicas) (int64 $hpa.maxReplicas)) -}}
{{- end -}}
{{- if and (not $hpa.targetCPUUtilizationPercentage) (not $hpa.targetMemoryUtilizationPercentage) -}}
{{- fail "autoscaling.enabled is true but no target is set: set autoscaling.targetCPUUtilizationPercentage or autoscaling.targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "squarebot.validateKafka" -}}
{{- $kafka := .Values.kafka -}}
{{- $sasl := include "squarebot.kafkaSASL" . | fromJson -}}
{{- $cert := include "squarebot.kafkaClientCert" . | fromJson -}}
{{- if include "squarebot.kafkaUsesSASL" . -}}
{{- if not $sasl.username -}}
{{- fail (printf "kafka.securityProtocol is %s but kafka.sasl.username is empty: set it, or enable strimzi.kafkaUser with authentication scram-sha-512" $kafka.securityProtocol) -}}
{{- end -}}
{{- if not $sasl.secret -}}
{{- fail (printf "kafka.securityProtocol is %s but kafka.sasl.existingSecret is empty: name the Secret with the SASL password, or enable strimzi.kafkaUser with authentication scram-sha-512" $kafka.securityProtocol) -}}
{{- end -}}
{{- else if or $kafka.sasl.username $kafka.sasl.existingSecret -}}
{{- fail (printf "kafka.sasl.username or kafka.sasl.existingSecret is set but kafka.securityProtocol is %s: use SASL_SSL or SASL_PLAINTEXT, or clear the kafka.sasl values" $kafka.securityProtocol) -}}
{{- end -}}
{{- if not (include "squarebot.kafkaUsesTLS" .) -}}
{{- if $cert.secret -}}
{{- fail (printf "a Kafka client certificate is configured but kafka.securityProtocol is %s: mutual TLS needs SSL" $kafka.securityProtocol) -}}
{{- end -}}
{{- if $kafka.tls.ca.existingSecret -}}
{{- fail (printf "kafka.tls.ca.existingSecret is set but kafka.securityProtocol is %s: use SSL or SASL_SSL, or clear kafka.tls.ca.existingSecret" $kafka.securityProtocol) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "squarebot.validateRegistry" -}}
{{- $registry := .Values.registry -}}
{{- if and $registry.username (not $registry.password.existingSecret) -}}
{{- fail "registry.username is set but registry.password.existingSecret is empty: name the Secret with the registry password" -}}
{{- end -}}
{{- if and $registry.password.existingSecret (not $registry.username) -}}
{{- fail "registry.password.existingSecret is set but registry.username is empty: set the registry user name" -}}
{{- end -}}
{{- if and $registry.ca.existingSecret (hasPrefix "http://" $registry.url) -}}
{{- fail "registry.ca.existingSecret is set but registry.url uses http://: use an https:// URL or clear registry.ca.existingSecret" -}}
{{- end -}}
{{- end -}}

{{- define "squarebot.validateStrimzi" -}}
{{- $strimzi := .Values.strimzi -}}
{{- $kafka := .Values.kafka -}}
{{- if and (or $strimzi.kafkaTopics.enabled $strimzi.kafkaUser.enabled) (not $strimzi.cluster) -}}
{{- fail "strimzi.kafkaTopics or strimzi.kafkaUser is enabled but strimzi.cluster is empty: set it to the name of the Strimzi Kafka resource" -}}
{{- end -}}
{{- if $strimzi.kafkaUser.enabled -}}
{{- if eq $strimzi.kafkaUser.authentication "scram-sha-512" -}}
{{- if not (include "squarebot.kafkaUsesSASL" .) -}}
{{- fail (printf "strimzi.kafkaUser.authentication is scram-sha-512 but kafka.securityProtocol is %s: use SASL_SSL or SASL_PLAINTEXT" $kafka.securityProtocol) -}}
{{- end -}}
{{- if ne $kafka.sasl.mechanism "SCRAM-SHA-512" -}}
{{- fail (printf "strimzi.kafkaUser.authentication is scram-sha-512 but kafka.sasl.mechanism is %s: use SCRAM-SHA-512" $kafka.sasl.mechanism) -}}
{{- end -}}
{{- if or $kafka.sasl.username $kafka.sasl.existingSecret -}}
{{- fail "strimzi.kafkaUser is enabled with scram-sha-512, so the chart sets the SASL user and Secret: clear kafka.sasl.username and kafka.sasl.existingSecret" -}}
{{- end -}}
{{- else -}}
{{- if ne $kafka.securityProtocol "SSL" -}}
{{- fail (printf "strimzi.kafkaUser.authentication is tls but kafka.securityProtocol is %s: use SSL" $kafka.securityProtocol) -}}
{{- end -}}
{{- if $kafka.tls.clientCert.existingSecret -}}
{{- fail "strimzi.kafkaUser is enabled with tls, so the chart sets the client certificate Secret: clear kafka.tls.clientCert.existingSecret" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $strimzi.kafkaTopics.enabled -}}
{{- $seen := dict -}}
{{- range $topic := include "squarebot.topicNames" . | fromJsonArray -}}
{{- $name := include "squarebot.kafkaTopicResourceName" $topic -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" $name) -}}
{{- fail (printf "topic %q gives the KafkaTopic name %q, which is not a valid Kubernetes name: start and end the topic name with a letter or digit" $topic $name) -}}
{{- end -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "topics %q and %q both give the KafkaTopic name %q: rename one of them" (get $seen $name) $topic $name) -}}
{{- end -}}
{{- $_ := set $seen $name $topic -}}
{{- end -}}
{{- end -}}
{{- end -}}
