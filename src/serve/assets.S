/* assets.S - the web console's files (web/), embedded in the binary so
 * `mamori serve` needs no files at run time. Each asset is a start and
 * an end symbol (serve/console.c), then a NUL. Paths are relative to the
 * repository root, where make and scripts/fuzz.sh run the assembler. */
	.section .rodata
	.balign 16
	.global mm_asset_index
	.global mm_asset_index_end
mm_asset_index:
	.incbin "web/index.html"
mm_asset_index_end:
	.byte 0
	.balign 16
	.global mm_asset_js
	.global mm_asset_js_end
mm_asset_js:
	.incbin "web/app.js"
mm_asset_js_end:
	.byte 0
	.balign 16
	.global mm_asset_css
	.global mm_asset_css_end
mm_asset_css:
	.incbin "web/app.css"
mm_asset_css_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
