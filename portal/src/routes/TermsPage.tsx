export default function TermsPage() {
  return (
    <section className="narrow prose">
      <h1>Terms of use</h1>
      <p>
        Casefold Support is the vendor&apos;s portal for support cases. By signing up you agree to
        use it to report and follow problems with the vendor&apos;s products, to keep your password
        to yourself, and not to upload material you may not share with the vendor.
      </p>
      <p>
        What you write in a case, and the files you attach, are seen by the vendor&apos;s support
        agents and kept as long as the case exists. Emails about your cases are sent to your address
        and kept in the case&apos;s activity history.
      </p>
    </section>
  );
}
