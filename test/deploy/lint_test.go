package deploy_test

import (
	"maps"
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()

	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading chart: %v", err)
	}
	return chrt
}

func TestChartLint(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(valueSets)) {
		t.Run(name, func(t *testing.T) {
			values, err := chartutil.ReadValues([]byte(valueSets[name]))
			if err != nil {
				t.Fatal(err)
			}

			result := lint.AllWithKubeVersion(chartDir, values, namespace, &testKubeVersion)

			for _, message := range result.Messages {
				if message.Severity >= support.ErrorSev {
					t.Errorf("lint: %s", message)
				} else {
					t.Logf("lint: %s", message)
				}
			}
		})
	}
}

func TestChartMetadata(t *testing.T) {
	metadata := loadChart(t).Metadata

	if metadata.APIVersion != chart.APIVersionV2 {
		t.Errorf("apiVersion = %q, expected v2", metadata.APIVersion)
	}
	if metadata.AppVersion == "" {
		t.Error("appVersion is empty")
	}
	if !chartutil.IsCompatibleRange(metadata.KubeVersion, testKubeVersion.Version) {
		t.Errorf("kubeVersion %q rejects %s, which the tests render for", metadata.KubeVersion, testKubeVersion.Version)
	}
	if chartutil.IsCompatibleRange(metadata.KubeVersion, "v1.29.0") {
		t.Errorf("kubeVersion %q accepts 1.29, which enables the preStop sleep handler only behind a feature gate", metadata.KubeVersion)
	}
}
