{{/* The chart's name, overridable. */}}
{{- define "lakegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release-qualified name every object starts with. */}}
{{- define "lakegate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "lakegate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "lakegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component (coordinator or executor): pass (list . "component"). */}}
{{- define "lakegate.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "lakegate.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "lakegate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "lakegate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "lakegate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The coordinator's in-cluster gRPC address executors register with. */}}
{{- define "lakegate.coordinatorUrl" -}}
{{- $scheme := ternary "https" "http" (not (empty .Values.coordinator.tlsSecret)) -}}
{{- printf "%s://%s-coordinator.%s.svc:%d" $scheme (include "lakegate.fullname" .) .Release.Namespace (int .Values.coordinator.ports.flightSql) -}}
{{- end -}}

{{/* What every lakegate container shares: config file, credentials, users file. */}}
{{- define "lakegate.volumeMounts" -}}
- name: config
  mountPath: /etc/lakegate
  readOnly: true
{{- if .Values.auth.usersSecret }}
- name: users
  mountPath: /etc/lakegate-users
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "lakegate.volumes" -}}
- name: config
  configMap:
    name: {{ include "lakegate.fullname" . }}
{{- if .Values.auth.usersSecret }}
- name: users
  secret:
    secretName: {{ .Values.auth.usersSecret }}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "lakegate.envFrom" -}}
{{- if .Values.credentials.existingSecret }}
envFrom:
  - secretRef:
      name: {{ .Values.credentials.existingSecret }}
{{- end }}
{{- end -}}
