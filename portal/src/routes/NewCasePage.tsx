import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { problemOf, unwrap } from "../api/problem";
import { Field, TextAreaField } from "../components/Field";
import { FilePicker } from "../components/FilePicker";
import { ProblemMessage } from "../components/ProblemMessage";
import { useExclusive } from "../hooks/useExclusive";
import { useSeverities } from "../components/severity";
import { useIdempotencyKey } from "../hooks/useIdempotencyKey";
import { useUploads } from "../hooks/useUploads";

export function referenceText(number: string): string {
  return `This case follows up on case ${number}, which is closed.\n\n`;
}

export default function NewCasePage() {
  const [params] = useSearchParams();
  const refersTo = params.get("refers_to");
  const [product, setProduct] = useState("");
  const [subject, setSubject] = useState("");
  const [description, setDescription] = useState(() => (refersTo ? referenceText(refersTo) : ""));
  const [severity, setSeverity] = useState(3);
  const uploads = useUploads();
  const severities = useSeverities();
  const idempotency = useIdempotencyKey();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  const products = useQuery({
    queryKey: ["products"],
    queryFn: async () => unwrap(await api.GET("/api/cases/products")),
    staleTime: 5 * 60_000,
  });

  const create = useMutation({
    mutationFn: async () => {
      const body = { product, subject, description, severity, attachments: uploads.references };
      const created = unwrap(
        await api.POST("/api/cases", {
          params: { header: { "Idempotency-Key": idempotency.current(body) } },
          body,
        }),
      );
      idempotency.succeeded(body);
      return created;
    },
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ["cases"] });
      queryClient.setQueryData(["case", created.id], created);
      navigate(`/cases/${created.id}`);
    },
  });
  const exclusive = useExclusive();
  const problem = create.isError ? problemOf(create.error) : null;
  // The catalogue's first entry is no answer: a case needs a product the customer chose, said before any request.
  const [productMissing, setProductMissing] = useState(false);
  const productError =
    productMissing && !product ? "Choose the product the case is about." : problem?.fields.product;
  const prioritised = /production down/i.test(subject);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!product) {
      setProductMissing(true);
      document.getElementById("case-product")?.focus();
      return;
    }
    if (!uploads.busy) exclusive(() => create.mutateAsync());
  }

  return (
    <section className="narrow">
      <h1>Create Case</h1>
      {refersTo && (
        <p className="note">
          This new case refers to the closed case{" "}
          <Link to={`/cases/by-number/${encodeURIComponent(refersTo)}`}>{refersTo}</Link>.
        </p>
      )}
      <form onSubmit={onSubmit} noValidate>
        <ProblemMessage problem={problem} />
        <div className="field">
          <label htmlFor="case-product">Product</label>
          <select
            id="case-product"
            value={product}
            onChange={(e) => setProduct(e.target.value)}
            aria-invalid={productError ? true : undefined}
            aria-describedby={productError ? "case-product-error" : undefined}
            required
          >
            <option value="">
              {products.isPending ? "Loading products…" : "Choose a product"}
            </option>
            {products.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {productError && (
            <p className="field-error" id="case-product-error">
              {productError}
            </p>
          )}
          {products.isError && <ProblemMessage problem={problemOf(products.error)} />}
        </div>
        <Field
          label="Subject"
          value={subject}
          onChange={(e) => setSubject(e.target.value)}
          error={problem?.fields.subject}
          hint={
            <>
              Put <strong>Production Down</strong> in the subject when production is stopped: the
              case is then prioritised.
            </>
          }
          required
        />
        {prioritised && (
          <p className="badge priority" role="status">
            This case will be prioritised
          </p>
        )}
        <TextAreaField
          label="Description"
          rows={8}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          error={problem?.fields.description}
          required
        />
        <fieldset className="field severity">
          <legend>Severity</legend>
          {severities.isPending && <p className="loading">Loading the severity levels…</p>}
          {severities.isError && <ProblemMessage problem={problemOf(severities.error)} />}
          {severities.data?.map((s) => (
            <div key={s.level} className="radio">
              <input
                id={`severity-${s.level}`}
                type="radio"
                name="severity"
                value={s.level}
                checked={severity === s.level}
                onChange={() => setSeverity(s.level)}
                aria-describedby={`severity-${s.level}-description`}
              />
              <label htmlFor={`severity-${s.level}`}>
                {s.level} - {s.name}
              </label>
              <p className="hint" id={`severity-${s.level}-description`}>
                {s.description}
              </p>
            </div>
          ))}
          {problem?.fields.severity && <p className="field-error">{problem.fields.severity}</p>}
        </fieldset>
        <FilePicker
          label="Attachments"
          items={uploads.items}
          onAdd={uploads.add}
          onRemove={uploads.remove}
        />
        {problem?.fields.attachments && <p className="field-error">{problem.fields.attachments}</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending || uploads.busy}>
            Submit
          </button>
          <Link to="/cases">Cancel</Link>
        </div>
        {uploads.busy && <p role="status">Waiting for the uploads to finish…</p>}
      </form>
    </section>
  );
}
