// Command loadgen drives an HTTP system open-loop: requests start at a fixed rate whatever the answers take, and
// each latency is measured from the moment its request was due (so a slow server cannot slow the clock that
// measures it). It prints one JSON line: counts, errors and percentiles per request kind and over all of them.
//
//	loadgen -config plan.json -rate 80 -duration 12s [-opened opened.tsv]
//
// The plan (written by bench/system_bench.py) names the base URL and the kinds of request with their weights; each
// kind has targets (path, bearer token, body) taken in turn. With -opened, every 2xx answer of a kind marked
// "record" is written as "<id>\t<number>\t<unix ns when the answer arrived>" for the bench to match with the mail.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type target struct {
	Path  string `json:"path"`
	Token string `json:"token"`
	Body  string `json:"body"`
}

type kind struct {
	Name    string   `json:"name"`
	Method  string   `json:"method"`
	Weight  int      `json:"weight"`
	Record  bool     `json:"record"`
	Targets []target `json:"targets"`
	next    atomic.Uint64
}

type plan struct {
	Base        string  `json:"base"`
	TimeoutMs   int     `json:"timeout_ms"`
	MaxInFlight int     `json:"max_in_flight"`
	Kinds       []*kind `json:"kinds"`
}

type sample struct {
	kind    int
	latency time.Duration
	status  int // 0: no answer (connection error, timeout, or not sent because too many were in flight)
}

type opened struct {
	ID     string          `json:"id"`
	Number json.RawMessage `json:"number"`
}

// Figures of one kind (or of all): what the bench reads.
type Figures struct {
	Count  int            `json:"count"`
	Errors int            `json:"errors"`
	P50Ms  float64        `json:"p50_ms"`
	P90Ms  float64        `json:"p90_ms"`
	P99Ms  float64        `json:"p99_ms"`
	MaxMs  float64        `json:"max_ms"`
	Status map[string]int `json:"status"`
}

// Report is the one JSON line printed at the end.
type Report struct {
	Rate             float64            `json:"rate"`
	DurationS        float64            `json:"duration_s"`
	AchievedRate     float64            `json:"achieved_rate"`
	MaxScheduleLagMs float64            `json:"max_schedule_lag_ms"`
	All              Figures            `json:"all"`
	Kinds            map[string]Figures `json:"kinds"`
}

func main() {
	configPath := flag.String("config", "", "the plan (JSON)")
	rate := flag.Float64("rate", 10, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long requests are started")
	openedPath := flag.String("opened", "", "where to write the answers of the kinds marked record")
	seed := flag.Uint64("seed", 1, "the random seed of the kind mix")
	flag.Parse()
	p, err := readPlan(*configPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	report, err := run(p, *rate, *duration, *openedPath, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(report)
	fmt.Println(string(out))
}

func readPlan(path string) (*plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.TimeoutMs <= 0 {
		p.TimeoutMs = 10000
	}
	if p.MaxInFlight <= 0 {
		p.MaxInFlight = 4096
	}
	total := 0
	for _, k := range p.Kinds {
		if len(k.Targets) == 0 || k.Weight < 0 {
			return nil, fmt.Errorf("kind %q: no targets or a negative weight", k.Name)
		}
		total += k.Weight
	}
	if total == 0 {
		return nil, fmt.Errorf("%s: no kind has a weight", path)
	}
	return &p, nil
}

func idempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func run(p *plan, rate float64, duration time.Duration, openedPath string, seed uint64) (*Report, error) {
	client := &http.Client{
		Timeout: time.Duration(p.TimeoutMs) * time.Millisecond,
		Transport: &http.Transport{
			MaxIdleConns:        p.MaxInFlight,
			MaxIdleConnsPerHost: p.MaxInFlight,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	var openedFile *os.File
	var openedMu sync.Mutex
	if openedPath != "" {
		f, err := os.Create(openedPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		openedFile = f
	}
	weights := make([]int, len(p.Kinds))
	sum := 0
	for i, k := range p.Kinds {
		sum += k.Weight
		weights[i] = sum
	}
	rng := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	total := int(math.Round(rate * duration.Seconds()))
	results := make(chan sample, 1024)
	var collected []sample
	collectorDone := make(chan struct{})
	go func() {
		for s := range results {
			collected = append(collected, s)
		}
		close(collectorDone)
	}()
	var wg sync.WaitGroup
	var inFlight atomic.Int64
	start := time.Now()
	var maxLag time.Duration
	for i := range total {
		// Due times from the start, not from the last one: no drift, and exactly rate x duration requests.
		due := start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if -wait > maxLag {
			maxLag = -wait
		}
		pick := rng.IntN(sum)
		ki := sort.SearchInts(weights, pick+1)
		k := p.Kinds[ki]
		t := k.Targets[(k.next.Add(1)-1)%uint64(len(k.Targets))]
		if inFlight.Load() >= int64(p.MaxInFlight) {
			results <- sample{ki, time.Since(due), 0}
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			status, body := send(client, p.Base, k, t)
			arrived := time.Now()
			results <- sample{ki, arrived.Sub(due), status}
			if k.Record && openedFile != nil && status >= 200 && status < 300 {
				var o opened
				if json.Unmarshal(body, &o) == nil {
					openedMu.Lock()
					fmt.Fprintf(openedFile, "%s\t%s\t%d\n", o.ID, string(o.Number), arrived.UnixNano())
					openedMu.Unlock()
				}
			}
		}()
	}
	sentFor := time.Since(start)
	wg.Wait()
	close(results)
	<-collectorDone
	report := &Report{Rate: rate, DurationS: duration.Seconds(), MaxScheduleLagMs: ms(maxLag),
		Kinds: map[string]Figures{}}
	// Over the step's duration, or longer when the generator fell behind its schedule.
	report.AchievedRate = float64(len(collected)) / math.Max(sentFor.Seconds(), duration.Seconds())
	report.All = figures(collected, -1)
	for i, k := range p.Kinds {
		report.Kinds[k.Name] = figures(collected, i)
	}
	return report, nil
}

func send(client *http.Client, base string, k *kind, t target) (int, []byte) {
	var body io.Reader
	if t.Body != "" {
		body = bytes.NewBufferString(t.Body)
	}
	req, err := http.NewRequest(k.Method, base+t.Path, body)
	if err != nil {
		return 0, nil
	}
	if t.Token != "" {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	}
	if t.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.Method == http.MethodPost {
		req.Header.Set("Idempotency-Key", idempotencyKey())
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	if k.Record {
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil
		}
		return resp.StatusCode, data
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, nil
	}
	return resp.StatusCode, nil
}

func figures(samples []sample, only int) Figures {
	var latencies []time.Duration
	f := Figures{Status: map[string]int{}}
	for _, s := range samples {
		if only >= 0 && s.kind != only {
			continue
		}
		f.Count++
		if s.status < 200 || s.status >= 300 {
			f.Errors++
		}
		f.Status[strconv.Itoa(s.status)]++
		latencies = append(latencies, s.latency)
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	f.P50Ms = ms(percentile(latencies, 50))
	f.P90Ms = ms(percentile(latencies, 90))
	f.P99Ms = ms(percentile(latencies, 99))
	if len(latencies) > 0 {
		f.MaxMs = ms(latencies[len(latencies)-1])
	}
	return f
}

// percentile by nearest rank, as bench/harness.py's percentile.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Round(p/100*float64(len(sorted))+0.5)) - 1
	k = max(0, min(len(sorted)-1, k))
	return sorted[k]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d.Microseconds())) / 1000
}
