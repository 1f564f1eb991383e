//! A server's tool result as the model reads it: text passes through,
//! images, audio and resources are summarised (the model is handed text
//! only), an `isError` result is a tool error.

use crate::agent::tools::ToolOutput;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// The tool output for `result`.
pub fn output(result: &CallToolResult) -> ToolOutput {
    let mut parts: Vec<String> = result.content.iter().map(summarise).collect();
    if parts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        parts.push(structured.to_string());
    }
    ToolOutput {
        content: parts.join("\n"),
        is_error: result.is_error.unwrap_or(false),
    }
}

fn summarise(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => format!(
            "[image {}, {} bytes, not shown]",
            i.mime_type,
            base64_len(&i.data)
        ),
        ContentBlock::Audio(a) => format!(
            "[audio {}, {} bytes, not shown]",
            a.mime_type,
            base64_len(&a.data)
        ),
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[resource {uri}, {}, {} bytes, not shown]",
                mime_type.as_deref().unwrap_or("binary"),
                base64_len(blob)
            ),
            _ => "[resource of a kind this daemon does not show]".to_string(),
        },
        ContentBlock::ResourceLink(link) => format!("[resource link {} ({})]", link.uri, link.name),
        // A kind of content newer than this daemon.
        #[allow(unreachable_patterns)]
        _ => "[content of a kind this daemon does not show]".to_string(),
    }
}

/// Decoded size of base64 `data`, near enough for a summary.
fn base64_len(data: &str) -> usize {
    let trimmed = data.trim_end_matches('=');
    trimmed.len() * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ContentBlock;

    #[test]
    fn text_passes_images_are_summarised_errors_stay_errors() {
        let mut r = CallToolResult::success(vec![
            ContentBlock::text("hello"),
            ContentBlock::image("aGVsbG8=", "image/png"),
        ]);
        let out = output(&r);
        assert_eq!(out.content, "hello\n[image image/png, 5 bytes, not shown]");
        assert!(!out.is_error);
        r.is_error = Some(true);
        assert!(output(&r).is_error);
    }
}
