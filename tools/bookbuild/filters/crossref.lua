--[[
crossref.lua -- Quarto-style cross-references, numbered across the whole book.

Runs once over the assembled book (every chapter is a Div with class `bb-chapter` and attributes
`source` and `number`), before citeproc, so numbering is consistent in every output format:

  * headers in numbered chapters get numbers: chapter "2", sections "2.1", "2.1.3"
    (depth from the metadata field `number-depth`, default 3); `.unnumbered` opts out;
  * figures (`#fig-`), tables (`#tbl-`) and display equations (`$$ ... $$ {#eq-}`) are numbered
    per chapter ("Figure 2.3", "Table 2.1", "(2.4)"), and captions get their number;
  * citations whose key has a cross-reference prefix (`@fig-x`, `[-@tbl-y]`, `@sec-z`,
    `@eq-w`) become links with that text.

A reference to an unknown label is reported on stderr as `BOOKBUILD-UNRESOLVED<TAB>file<TAB>key`
and the filter fails, so the builder can point at the line. Duplicate labels fail the same way
(`BOOKBUILD-DUPLICATE`).
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify

local PREFIXES = {
  fig = 'Figure', tbl = 'Table', eq = 'Equation', sec = 'Section', lst = 'Listing',
  thm = 'Theorem', lem = 'Lemma', cor = 'Corollary', prp = 'Proposition', cnj = 'Conjecture',
  def = 'Definition', exm = 'Example', exr = 'Exercise', sol = 'Solution', rem = 'Remark',
  alg = 'Algorithm', prf = 'Proof', tip = 'Tip', nte = 'Note', wrn = 'Warning',
  imp = 'Important', cau = 'Caution',
}

local labels = {}     -- id -> {kind=, number=, chapter_level=bool}
local problems = {}

local function kind_of(id)
  local prefix = id:match('^(%a+)%-')
  if prefix and PREFIXES[prefix] then return prefix end
  return nil
end

local function register(id, kind, number, source, extra)
  if labels[id] then
    table.insert(problems, 'BOOKBUILD-DUPLICATE\t' .. source .. '\t' .. id)
    return
  end
  local entry = {kind = kind, number = number}
  if extra then for k, v in pairs(extra) do entry[k] = v end end
  labels[id] = entry
end

local function number_text(chapter, n)
  if chapter ~= '' then return chapter .. '.' .. n end
  return tostring(n)
end

local function caption_prefix(word, number)
  return {pandoc.Str(word), pandoc.Str('\u{a0}' .. number .. ':'), pandoc.Space()}
end

local function prepend_caption(caption, inlines)
  -- A pandoc Caption has `long` (a list of blocks); put the prefix in its first Plain/Para.
  local long = caption.long
  if #long == 0 then
    long:insert(pandoc.Plain(inlines))
  else
    local first = long[1]
    if first.content then
      local new = pandoc.List(inlines)
      new:extend(first.content)
      first.content = new
    end
  end
  caption.long = long
  return caption
end

local function parse_inlines(text)
  local doc = pandoc.read(text, 'markdown')
  if #doc.blocks == 0 then return pandoc.Inlines({}) end
  return doc.blocks[1].content
end

-- Number one chapter (a Div) in document order.
local function number_chapter(div, depth)
  local source = div.attributes['source'] or '?'
  local chapter = div.attributes['number'] or ''
  local counters = {0, 0, 0, 0, 0, 0}
  local counts = {fig = 0, tbl = 0, eq = 0}

  local function next_number(kind)
    counts[kind] = counts[kind] + 1
    return number_text(chapter, counts[kind])
  end

  local function number_header(h)
    local unnumbered = h.classes:includes('unnumbered') or h.classes:includes('-')
    local num = nil
    if h.level == 1 then
      if chapter ~= '' and not unnumbered then num = chapter end
    elseif chapter ~= '' and not unnumbered and h.level <= depth then
      counters[h.level] = counters[h.level] + 1
      for l = h.level + 1, #counters do counters[l] = 0 end
      local parts = {chapter}
      for l = 2, h.level do table.insert(parts, tostring(counters[l])) end
      num = table.concat(parts, '.')
    end
    if num then
      h.attributes['number'] = num
      local content = pandoc.List({pandoc.Span({pandoc.Str(num)}, {class = 'header-section-number'}),
                                   pandoc.Space()})
      content:extend(h.content)
      h.content = content
    end
    if h.identifier ~= '' and kind_of(h.identifier) == 'sec' then
      register(h.identifier, 'sec', num or stringify(h.content), source,
               {chapter_level = (h.level == 1), numbered = num ~= nil, title = stringify(h.content)})
    end
    return h
  end

  local function number_figure(fig)
    if fig.identifier:match('^fig%-') then
      local n = next_number('fig')
      register(fig.identifier, 'fig', n, source)
      fig.caption = prepend_caption(fig.caption, caption_prefix('Figure', n))
    end
    return fig
  end

  local function number_table(tbl, id)
    local n = next_number('tbl')
    register(id, 'tbl', n, source)
    tbl.caption = prepend_caption(tbl.caption, caption_prefix('Table', n))
    return tbl
  end

  local function number_equations(inlines)
    local out = pandoc.List()
    local i = 1
    while i <= #inlines do
      local el = inlines[i]
      if el.t == 'Math' and el.mathtype == 'DisplayMath' then
        local j = i + 1
        while inlines[j] and (inlines[j].t == 'Space' or inlines[j].t == 'SoftBreak') do j = j + 1 end
        local label = inlines[j] and inlines[j].t == 'Str' and inlines[j].text:match('^{#(eq%-[%w_%-]+)}$')
        if label then
          local n = next_number('eq')
          register(label, 'eq', n, source)
          el.text = el.text .. ' \\qquad(' .. n .. ')'
          out:insert(pandoc.Span({el}, {id = label, class = 'equation'}))
          i = j + 1
        else
          out:insert(el)
          i = i + 1
        end
      else
        out:insert(el)
        i = i + 1
      end
    end
    return out
  end

  -- Quarto's div figure: ::: {#fig-x} content, then the caption as the last paragraph.
  local function div_figure(d)
    if not d.identifier:match('^fig%-') then return nil end
    local blocks = d.content
    local caption = {}
    if #blocks > 1 and blocks[#blocks].t == 'Para' then
      caption = blocks[#blocks].content
      blocks = blocks:clone()
      blocks:remove(#blocks)
    end
    local fig = pandoc.Figure(blocks, {pandoc.Plain(caption)}, {id = d.identifier})
    return number_figure(fig)
  end

  local function div_table(d)
    if not d.identifier:match('^tbl%-') then return nil end
    local id = d.identifier
    local cap = d.attributes['tbl-cap']
    local found = false
    d.content = d.content:walk({
      Table = function(t)
        if found then return nil end
        found = true
        if cap then t.caption = pandoc.Caption({pandoc.Plain(parse_inlines(cap))}) end
        return number_table(t, id)
      end,
    })
    if not found then
      table.insert(problems, 'BOOKBUILD-NOTABLE\t' .. source .. '\t' .. id)
    end
    d.attributes['tbl-cap'] = nil
    return d
  end

  return div:walk({
    traverse = 'topdown',
    Header = number_header,
    Div = function(d)
      -- A header that opens a callout is the callout's title, not a section.
      if #d.content > 0 and d.content[1].t == 'Header' then
        for _, class in ipairs(d.classes) do
          if class:match('^callout%-') then
            d.content[1].classes:insert('unnumbered')
            return d
          end
        end
      end
      local r = div_figure(d) or div_table(d)
      if r then return r, false end
      return nil
    end,
    Figure = number_figure,
    Table = function(t)
      if t.identifier:match('^tbl%-') then
        local id = t.identifier
        return number_table(t, id)
      end
      return nil
    end,
    Inlines = number_equations,
  })
end

local function resolve(cite, source)
  local out = pandoc.List()
  for k, c in ipairs(cite.citations) do
    local entry = labels[c.id]
    if not entry then
      table.insert(problems, 'BOOKBUILD-UNRESOLVED\t' .. source .. '\t' .. c.id)
      return nil
    end
    if k > 1 then out:insert(pandoc.Str(',')); out:insert(pandoc.Space()) end
    if #c.prefix > 0 then out:extend(c.prefix); out:insert(pandoc.Space()) end
    local text
    if c.mode == 'SuppressAuthor' then
      text = entry.number
    elseif entry.kind == 'eq' then
      text = 'Equation\u{a0}(' .. entry.number .. ')'
    elseif entry.kind == 'sec' and entry.chapter_level then
      -- appendices are lettered (A, B, ...): Quarto calls them "Appendix A"
      local word = entry.number:match('^%u+$') and 'Appendix' or 'Chapter'
      text = entry.numbered and (word .. '\u{a0}' .. entry.number) or entry.title
    elseif entry.kind == 'sec' and not entry.numbered then
      text = entry.title
    else
      text = PREFIXES[entry.kind] .. '\u{a0}' .. entry.number
    end
    out:insert(pandoc.Link({pandoc.Str(text)}, '#' .. c.id, '', {class = 'quarto-xref'}))
    if #c.suffix > 0 then out:extend(c.suffix) end
  end
  return out
end

local function is_crossref(cite)
  for _, c in ipairs(cite.citations) do
    if not kind_of(c.id) then return false end
  end
  return true
end

function Pandoc(doc)
  local depth = tonumber(doc.meta['number-depth'] and stringify(doc.meta['number-depth']) or '3')
  for i, block in ipairs(doc.blocks) do
    if block.t == 'Div' and block.classes:includes('bb-chapter') then
      doc.blocks[i] = number_chapter(block, depth)
    end
  end
  for i, block in ipairs(doc.blocks) do
    if block.t == 'Div' and block.classes:includes('bb-chapter') then
      local source = block.attributes['source'] or '?'
      doc.blocks[i] = block:walk({
        Cite = function(cite)
          if is_crossref(cite) then return resolve(cite, source) end
          return nil
        end,
      })
    end
  end
  if #problems > 0 then
    for _, p in ipairs(problems) do io.stderr:write(p .. '\n') end
    error('cross-reference problems (see above)')
  end
  return doc
end
