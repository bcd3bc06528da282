// prom-text-check reads the Prometheus text exposition format on stdin with Prometheus's own
// parser (github.com/prometheus/common/expfmt, the one the Prometheus server scrapes with) and
// prints the metric families as JSON lines (protojson), or the parse error on stderr with exit 1.
// The metrics test uses it because the npm parsers are lenient (one folds labelled histograms
// into a single sample, another accepts any word as a value).
package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protojson"
)

func main() {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		line, err := protojson.Marshal(families[name])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(string(line))
	}
}
