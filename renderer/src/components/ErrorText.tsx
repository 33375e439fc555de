/** An error next to the control that caused it, announced at once. */
export function ErrorText({ message, id }: { message: string | null; id?: string }) {
  if (!message) return null;
  return (
    <p className="error-text" role="alert" id={id}>
      {message}
    </p>
  );
}
