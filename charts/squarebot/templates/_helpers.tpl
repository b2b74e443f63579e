{{/*
Chart name, or nameOverride. Kubernetes limits label values and many names to
63 characters.
*/}}
{{- define "squarebot.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Base name of every resource: fullnameOverride, or the release name followed by
the chart name unless the release name already starts with it.
*/}}
{{- define "squarebot.fullname" -}}
{{- $fullname := .Values.fullnameOverride -}}
{{- if not $fullname -}}
{{- $name := include "squarebot.name" . -}}
{{- $fullname = ternary .Release.Name (printf "%s-%s" .Release.Name $name) (hasPrefix $name .Release.Name) -}}
{{- end -}}
{{- $fullname | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Value of the helm.sh/chart label: chart name and version. */}}
{{- define "squarebot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Version of the running image, for the app.kubernetes.io/version label. */}}
{{- define "squarebot.version" -}}
{{- .Values.image.tag | default .Chart.AppVersion | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels that select the pods. They go into immutable selectors, so they must
not change between releases.
*/}}
{{- define "squarebot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "squarebot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{/* Standard labels of every resource. */}}
{{- define "squarebot.labels" -}}
{{ include "squarebot.selectorLabels" . }}
app.kubernetes.io/version: {{ include "squarebot.version" . | quote }}
app.kubernetes.io/part-of: squarebot
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "squarebot.chart" . }}
{{- end -}}

{{/* Image reference: pinned by digest when one is set, else by tag. */}}
{{- define "squarebot.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "squarebot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "squarebot.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret with the Slack signing secrets. */}}
{{- define "squarebot.slackSecretName" -}}
{{- .Values.slack.signingSecrets.existingSecret | default (include "squarebot.fullname" .) -}}
{{- end -}}

{{/*
Configured topic names as a JSON array, without duplicates, in the order of
the topics values. Several routes may share one topic.
*/}}
{{- define "squarebot.topicNames" -}}
{{- $topics := .Values.topics -}}
{{- list $topics.appMention $topics.messageChannel $topics.messageGroup $topics.messageIm $topics.messageMpim $topics.interaction | uniq | toJson -}}
{{- end -}}

{{/*
KafkaTopic resource name for a topic name. Topic names may contain capitals
and underscores, which Kubernetes names may not, so spec.topicName always
carries the real topic name.
*/}}
{{- define "squarebot.kafkaTopicResourceName" -}}
{{- . | lower | replace "_" "-" -}}
{{- end -}}

{{/* Name of the KafkaUser, its Kafka user name and the name of its Secret. */}}
{{- define "squarebot.kafkaUserName" -}}
{{- .Values.strimzi.kafkaUser.name | default (include "squarebot.fullname" .) -}}
{{- end -}}

{{/* Whether the Kafka security protocol uses SASL ("true" or ""). */}}
{{- define "squarebot.kafkaUsesSASL" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}

{{/* Whether the Kafka security protocol uses TLS ("true" or ""). */}}
{{- define "squarebot.kafkaUsesTLS" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") -}}true{{- end -}}
{{- end -}}

{{/*
SASL user name, password Secret and key. The chart's KafkaUser takes the
place of the kafka.sasl values when it uses SCRAM.
*/}}
{{- define "squarebot.kafkaSASL" -}}
{{- $user := .Values.strimzi.kafkaUser -}}
{{- if and $user.enabled (eq $user.authentication "scram-sha-512") -}}
{{- $name := include "squarebot.kafkaUserName" . -}}
{{- dict "username" $name "secret" $name "key" "password" | toJson -}}
{{- else -}}
{{- $sasl := .Values.kafka.sasl -}}
{{- dict "username" $sasl.username "secret" $sasl.existingSecret "key" $sasl.passwordKey | toJson -}}
{{- end -}}
{{- end -}}

{{/*
Client certificate Secret and keys for mutual TLS. The chart's KafkaUser
takes the place of kafka.tls.clientCert when it uses TLS.
*/}}
{{- define "squarebot.kafkaClientCert" -}}
{{- $user := .Values.strimzi.kafkaUser -}}
{{- if and $user.enabled (eq $user.authentication "tls") -}}
{{- dict "secret" (include "squarebot.kafkaUserName" .) "certKey" "user.crt" "keyKey" "user.key" | toJson -}}
{{- else -}}
{{- $cert := .Values.kafka.tls.clientCert -}}
{{- dict "secret" $cert.existingSecret "certKey" $cert.certKey "keyKey" $cert.keyKey | toJson -}}
{{- end -}}
{{- end -}}

{{/*
Secret with the CA certificate of the Kafka brokers. Strimzi stores its
cluster CA certificate in the Secret <cluster>-cluster-ca-cert.
*/}}
{{- define "squarebot.kafkaCASecret" -}}
{{- if .Values.kafka.tls.ca.existingSecret -}}
{{- .Values.kafka.tls.ca.existingSecret -}}
{{- else if and .Values.strimzi.cluster (include "squarebot.kafkaUsesTLS" .) -}}
{{- printf "%s-cluster-ca-cert" .Values.strimzi.cluster -}}
{{- end -}}
{{- end -}}

{{/* Directory under which the Secrets are mounted, one folder each. */}}
{{- define "squarebot.secretsDir" -}}/var/run/secrets/squarebot{{- end -}}
