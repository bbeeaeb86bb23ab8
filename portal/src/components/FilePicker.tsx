import { useId, useRef } from "react";
import type { UploadItem } from "../hooks/useUploads";

interface FilePickerProps {
  label: string;
  items: UploadItem[];
  onAdd: (files: FileList) => void;
  onRemove: (key: string) => void;
  multiple?: boolean;
  disabled?: boolean;
}

/** A labelled file chooser and the chosen files, each with its progress bar and its own error. */
export function FilePicker({
  label,
  items,
  onAdd,
  onRemove,
  multiple = true,
  disabled,
}: FilePickerProps) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        ref={input}
        id={id}
        type="file"
        multiple={multiple}
        disabled={disabled}
        onChange={(e) => {
          if (e.target.files?.length) onAdd(e.target.files);
          // Lets the same file be chosen again after it was removed.
          if (input.current) input.current.value = "";
        }}
      />
      {items.length > 0 && (
        <ul className="uploads">
          {items.map((item) => (
            <li key={item.key} className={`upload upload-${item.state}`}>
              <span className="upload-name">{item.name}</span>
              <progress max={1} value={item.progress} aria-label={`Upload of ${item.name}`} />
              <span className="upload-state">
                {item.state === "uploading"
                  ? `${Math.round(item.progress * 100)}%`
                  : item.state === "done"
                    ? "Uploaded"
                    : "Failed"}
              </span>
              <button type="button" className="link" onClick={() => onRemove(item.key)}>
                Remove <span className="visually-hidden">{item.name}</span>
              </button>
              {item.problem && (
                <p className="field-error" role="alert">
                  {item.problem.detail.includes(item.name)
                    ? item.problem.detail
                    : `${item.name}: ${item.problem.detail}`}
                  {item.problem.errorId &&
                    ` (error id ${item.problem.errorId}: quote this in a support case)`}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
